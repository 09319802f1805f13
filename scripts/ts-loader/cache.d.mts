export declare const ROOT: string;
export declare const CACHE: string;
/** Removes what `dir` (the cache) holds that was written more than a week before `now`. */
export declare function pruneCompiled(dir?: string, now?: number): void;
