/** The one place the stable-diffusion.cpp version is pinned: the upstream commit its sources come from. */
export const SD_CPP_COMMIT = '97d2990807fe6d558e395f8764198d7c7e7b411c'

/** The short form, as sd_commit() and the cache folder name it. */
export const SD_CPP_SHORT_COMMIT = SD_CPP_COMMIT.slice(0, 8)

export const SD_CPP_REPOSITORY = 'https://github.com/leejet/stable-diffusion.cpp'

/** Whether a commit a library reports (short or full) is the pinned one. */
export function isPinnedCommit(commit: string): boolean {
  return commit.length >= 7 && SD_CPP_COMMIT.startsWith(commit.toLowerCase())
}
