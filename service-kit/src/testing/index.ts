/** Test helpers shared by every package's tests (temporary directories, the ../shared test data). */
export { Cleanups, type CleanupOwner, tempDir } from './temp-dir.js';
export { REPO_ROOT, SHARED_DIR, sharedImage, sharedModel, sharedPath } from './shared-data.js';
