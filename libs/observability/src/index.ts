export * from './pino-logger';
export * from './request-context';
export * from './graceful-shutdown';
export * from './http-metrics';
export * from './process-env.dto';
export * from './close-connections';
export * from './service-version';
