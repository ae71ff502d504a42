import { systemd } from './plugin.js';

export { systemd, type SystemdPluginOptions, type SystemdListenFallback, type FastifySystemd } from './plugin.js';
export default systemd;
