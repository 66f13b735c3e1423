#!/usr/bin/env node
// GStreamer pulls and bus polls each park a libuv threadpool thread; the pool is sized before first use.
if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = '64';
const { main } = await import('../dist/src/cli/main.js');
process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
