export * from './topics.js';
export * from './schemas.js';
export * from './model.js';
export * from './events.js';
export * from './decode.js';
export * from './redact.js';
export * from './env.js';
export * from './reconnect.js';
