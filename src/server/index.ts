export { StreamServer, type Handler, type StreamServerOptions } from './server.js';
