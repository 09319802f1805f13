// A small command-line parser: long and short options, booleans and strings, positionals.

function findShort(options, letter) {
  return Object.keys(options).find((name) => options[name].short === letter);
}

export function parseArgs(argv, { options = {} } = {}) {
  const values = {};
  const positionals = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    let name;
    if (arg.startsWith('--')) {
      name = arg.slice(2);
      if (!options[name]) throw new Error(`unknown option ${arg}`);
    } else if (arg.startsWith('-') && arg.length > 1) {
      name = findShort(options, arg.slice(1));
      if (!name) throw new Error(`unknown option ${arg}`);
    } else {
      positionals.push(arg);
      continue;
    }
    if (options[name].type === 'boolean') {
      values[name] = true;
    } else {
      const value = argv[i + 1];
      if (value === undefined) throw new Error(`option --${name} needs a value`);
      values[name] = value;
      i += 1;
    }
  }
  for (const [name, spec] of Object.entries(options)) {
    if (values[name] === undefined && spec.default !== undefined) values[name] = spec.default;
  }
  return { values, positionals };
}
