/**
 * @edgefleet/service-kit: the configuration kit (schema → environment overrides → defaults
 *  → every error at once → frozen resolved type → generated reference).
 */
export {};
