// Parsing version strings: MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD].

const VERSION = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

export function parse(text) {
  const match = VERSION.exec(String(text).trim());
  if (!match) throw new Error(`invalid version: ${JSON.stringify(text)}`);
  return {
    major: match[1],
    minor: match[2],
    patch: match[3],
    prerelease: match[4] ? match[4].split('.') : [],
    build: match[5] ? match[5].split('.') : [],
  };
}
