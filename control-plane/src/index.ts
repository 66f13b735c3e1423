/**
 * Public API of the control plane package: what other packages use (cross-package tests and benchmarks run a
 * control plane in-process and drive it over its REST API). The CLI lives in bin/control-plane.js; internals
 * that tests and benchmarks reach into are exported from ./testing (src/testing.ts).
 */
export { ControlPlane } from './server/control-plane.js';
export { parseControlPlaneConfig } from './config/load-control-plane-config.js';
export { ApiClient } from './cli/api-client.js';
export { evaluateModel } from './evaluation/evaluate-model.js';
export { isCpError } from './errors.js';
