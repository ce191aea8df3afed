// Types of prebuild-targets.mjs (read by the TypeScript tests).

/** A command on PATH or a file, and the Debian package that provides it. */
export interface Need {
  readonly command?: string;
  readonly path?: string;
  readonly apt: string;
}

export interface PrebuildTarget {
  /** Node's name for the CPU. */
  readonly arch: 'x64' | 'arm64';
  readonly libc: 'glibc' | 'musl';
  /** C compiler, also used as the linker (the addon is plain C). */
  readonly cc: string;
  readonly strip: string;
  /** Kernel UAPI header directories that musl's compiler wrappers do not search. */
  readonly uapiInclude: readonly string[];
  /** What building this binary needs. */
  readonly buildNeeds: readonly Need[];
  /** What running a program of this arch and libc here needs, beyond buildNeeds. */
  readonly runNeeds: readonly Need[];
  /** readelf's name for the ELF machine of the result. */
  readonly elfMachine: string;
  /** The libc the result must name in DT_NEEDED. */
  readonly libcSoname: string;
  /** Command prefix that runs a program of this arch here (empty: natively). */
  readonly qemu: readonly string[];
}

export const PACKAGE_NAME: string;
export const PREBUILD_NAME: string;
export const PREBUILD_TARGETS: readonly PrebuildTarget[];
export function prebuildPath(target: PrebuildTarget): string;
export function targetLabel(target: PrebuildTarget): string;
/** Where `command` is on PATH (default: this process's), or undefined. */
export function onPath(command: string, path?: string): string | undefined;
/** The needs that this machine does not meet. */
export function unmet(needs: readonly Need[]): Need[];
/** A directory with include/node/node_api.h (npm's nodedir, or the running Node's), or undefined. */
export function nodeHeaders(): string | undefined;
