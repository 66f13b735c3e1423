/** Test helpers shared by every package's tests (temporary directories, the ../shared test data). */
export {};
