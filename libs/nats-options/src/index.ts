export * from './nats-env.dto';
export * from './nats-options';
export * from './turn-end';
