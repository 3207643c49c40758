/**
 * CMake flags for libraries copied out of the build folder: each library finds its siblings beside
 * itself, and an executable in bin/ finds them in ../lib.
 */
export function relocatableRpathFlags(): string[] {
  const origin = process.platform === 'darwin' ? '@loader_path' : '$ORIGIN'
  return ['-DCMAKE_BUILD_WITH_INSTALL_RPATH=ON', `-DCMAKE_INSTALL_RPATH=${origin};${origin}/../lib`]
}

/** `-G Ninja` when ninja is installed (faster, and its "[12/345]" lines show progress too). */
export function cmakeGenerator(): string[] {
  return Bun.which('ninja') ? ['-G', 'Ninja'] : []
}
