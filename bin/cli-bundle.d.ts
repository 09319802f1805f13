export declare const CLI_BUNDLE_DIR: string;
export declare const CLI_BUNDLE_PREFIX: string;
export declare function sourceStamp(root: string): string;
export declare function cliBundleFile(root: string): string;
