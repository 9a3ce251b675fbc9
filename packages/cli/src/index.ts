export {
  type AloftApi,
  type ApiConnection,
  ApiError,
  ConnectionError,
  connectApi,
} from './api/index.js';
export { CliError, type CliIo, type OutputSink } from './cli-io.js';
export { buildProgram, run } from './program.js';
export * from './simulate/index.js';
