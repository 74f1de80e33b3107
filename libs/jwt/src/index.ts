export * from './jwt-codec';
export * from './token-verifier';
export * from './claims-policy';
