/** The one place the whisper.cpp version is pinned: the sources come from this `nodejs-whisper` release. */
export const WHISPER_CPP_VERSION = '1.9.1'
export const SOURCE_PACKAGE = 'nodejs-whisper'
