export const IMAGE_FILES_PATH = '/v1/images/files/'
