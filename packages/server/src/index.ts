export { type AloftConfig, ConfigError, ConfigSchema, envName, loadConfig } from './config/config.js';
export { AloftError, catalogue } from './errors.js';
export { type RunningServer, startServer } from './main.js';
export { BrokerPortInUseError } from './transport/mqtt/embedded-broker.js';
