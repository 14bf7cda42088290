/**
 * Version of the case catalog. Bump the minor version when cases are added,
 * the major version when a case changes what it demands; case ids are
 * stable across minor versions so known-failing lists keep working.
 */
export const SUITE_VERSION = "1.0.0";
