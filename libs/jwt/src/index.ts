export * from './jwt-codec';
export * from './token-verifier';
export * from './claims-policy';
export * from './verified-token-cache';
export * from './revocation-state';
export * from './verdict';
export * from './encoded-once';
