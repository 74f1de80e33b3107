export * from './nats-env.dto';
export * from './nats-options';
