export declare function libc(): 'glibc' | 'musl' | 'unknown';
export declare function binaryTarget(): { dir: string; file: string; libc: string };
