// Types for ferry-sqlite. Structural, so that no types package is needed:
// better-sqlite3's Database has loadExtension(path).

/** A connection that can load a SQLite extension, as better-sqlite3's Database. */
export interface LoadsExtensions {
  loadExtension(path: string, entryPoint?: string): unknown;
}

/** Loads ferry's extension into `db` and returns `db`. Throws when the extension was not built. */
export function load<T extends LoadsExtensions>(db: T): T;

/** The extension's path, without its suffix, as SQLite's load_extension() takes it. */
export const extension: string;
/** The version of ferry this package was built from. */
export const version: string;
/** The bundle format this package's ferry writes; also the major of the package's version. */
export const bundleFormat: number;
