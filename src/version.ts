/** The release version (package.json's; a test keeps them equal). Jobs run the image of this version by default. */
export const AUTOSTASH_VERSION = '0.1.0';

/** The container image backup, restore and maintenance Jobs run unless configured otherwise. */
export const DEFAULT_EXECUTOR_IMAGE = `ghcr.io/autostash/autostash:v${AUTOSTASH_VERSION}`;
