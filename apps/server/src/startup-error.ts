/** The app could not start for a reason the user can fix (a cluster port taken, no master answering). */
export class StartupError extends Error {}
