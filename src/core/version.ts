/** Version of every stored record's shape. Bump it when a stored shape changes and add an upgrade step in `migrate.ts`. */
export const SCHEMA_VERSION = 2 as const;

/** The package version, recorded in every run so a report says what produced it. */
export const GAUNTLET_VERSION = '0.1.0';
