export { createAdmissionChain, type AdmissionChainOptions, type EmbeddedAdmissionChain } from './chain.js';
export type { ServiceResolver } from './webhook-client.js';
