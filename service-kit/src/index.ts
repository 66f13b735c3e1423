/**
 * @edgefleet/service-kit: the runtime pieces both programs share. Each concept lives in one file
 * named for it; this entry re-exports them.
 */
export { type Component, ComponentStack, type StopFailure, type Stoppable } from './lifecycle.js';
