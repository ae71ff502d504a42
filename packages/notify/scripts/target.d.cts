export declare function libc(): { family: 'glibc' | 'musl' | 'none'; version: string | undefined };
export declare function describeTarget(): string;
export declare function binaryTarget(): { dir: string; file: string };
