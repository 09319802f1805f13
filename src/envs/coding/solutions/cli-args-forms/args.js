// A small command-line parser: long and short options, booleans and strings, positionals.
// Forms: --name value, --name=value, --no-flag, -n value, grouped short booleans (-abc), and --.

function findShort(options, letter) {
  return Object.keys(options).find((name) => options[name].short === letter);
}

function takeValue(argv, i, display) {
  const value = argv[i + 1];
  if (value === undefined) throw new Error(`option ${display} needs a value`);
  return value;
}

export function parseArgs(argv, { options = {} } = {}) {
  const values = {};
  const positionals = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      const spec = options[name];
      if (!spec) {
        const negated = name.startsWith('no-') ? name.slice(3) : undefined;
        if (negated && options[negated]?.type === 'boolean' && eq === -1) {
          values[negated] = false;
          continue;
        }
        throw new Error(`unknown option --${name}`);
      }
      if (spec.type === 'boolean') {
        if (eq !== -1) throw new Error(`option --${name} does not take a value`);
        values[name] = true;
      } else if (eq !== -1) {
        values[name] = arg.slice(eq + 1);
      } else {
        values[name] = takeValue(argv, i, `--${name}`);
        i += 1;
      }
    } else if (arg.startsWith('-') && arg.length > 1) {
      const letters = arg.slice(1);
      for (let j = 0; j < letters.length; j++) {
        const name = findShort(options, letters[j]);
        if (!name) throw new Error(`unknown option -${letters[j]}`);
        if (options[name].type === 'boolean') {
          values[name] = true;
        } else if (j === letters.length - 1) {
          values[name] = takeValue(argv, i, `-${letters[j]}`);
          i += 1;
        } else {
          throw new Error(`option -${letters[j]} needs a value`);
        }
      }
    } else {
      positionals.push(arg);
    }
  }
  for (const [name, spec] of Object.entries(options)) {
    if (values[name] === undefined && spec.default !== undefined) values[name] = spec.default;
  }
  return { values, positionals };
}
