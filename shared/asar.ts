// Where the packaged app's files run from. Imports nothing.

/**
 * In the packaged app the bundle lies inside app.asar, which only Electron's
 * own Node can read. The entries that run as processes of their own (and the
 * chunks they import, and the native modules) are also unpacked beside it
 * (electron-builder.yml's asarUnpack): those copies are what runs.
 */
export function unpackedPath(path: string): string {
  return path.replace(/([\\/])app\.asar([\\/])/, '$1app.asar.unpacked$2');
}
