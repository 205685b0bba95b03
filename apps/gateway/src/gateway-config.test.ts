import { describe, expect, it } from 'vitest';
import { GATEWAY_SETTINGS, gatewayHelp, loadGatewayConfig } from './gateway-config.js';

describe('loadGatewayConfig', () => {
  it("uses tritonserver's ports and the router's default address", () => {
    const config = loadGatewayConfig([], {});
    expect(config).toEqual({
      httpAddress: '0.0.0.0',
      httpPort: 8000,
      grpcAddress: '0.0.0.0',
      grpcPort: 8001,
      metricsAddress: '0.0.0.0',
      metricsPort: 8002,
      allowHttp: true,
      allowGrpc: true,
      allowMetrics: true,
      routerAddress: '127.0.0.1:8004',
      shadowMaxInflight: 64,
      maxRequestBytes: 64 * 2 ** 20,
      logVerbose: 0,
      logFormat: 'text',
      exitTimeoutSecs: 30,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads SIBYL_* variables; a flag wins over its variable', () => {
    const env = { SIBYL_ROUTER_ADDRESS: 'router.sibyl.svc:8004', SIBYL_HTTP_PORT: '9000', SIBYL_SHADOW_MAX_INFLIGHT: '0', SIBYL_ALLOW_GRPC: 'false' };
    expect(loadGatewayConfig([], env)).toMatchObject({ routerAddress: 'router.sibyl.svc:8004', httpPort: 9000, shadowMaxInflight: 0, allowGrpc: false });
    expect(loadGatewayConfig(['--router-address', '[::1]:8104', '--http-port=0'], env)).toMatchObject({ routerAddress: '[::1]:8104', httpPort: 0 });
  });

  it.each([
    [['--router-address', 'router'], /routerAddress \(--router-address \/ SIBYL_ROUTER_ADDRESS\): expected host:port, got 'router'/],
    [['--router-address', 'router:70000'], /routerAddress .*port 70000 is above 65535/],
    [['--shadow-max-inflight', '-1'], /invalid setting command line/],
    [['--shadow-max-inflight', 'many'], /shadowMaxInflight \(--shadow-max-inflight \/ SIBYL_SHADOW_MAX_INFLIGHT\): expected a non-negative integer/],
    [['--grpc-port', '99999'], /grpcPort .*port 99999 is above 65535/],
    [['--max-request-bytes', '1.5Gi'], /maxRequestBytes .*expected a number of bytes/],
    [['--database-url', 'postgres://h/d'], /invalid setting command line: .*database-url/],
  ])('refuses %j naming the setting', (argv, message) => {
    expect(() => loadGatewayConfig(argv, {})).toThrow(message);
  });

  it('refuses a bad variable naming it', () => {
    expect(() => loadGatewayConfig([], { SIBYL_ALLOW_HTTP: 'perhaps' })).toThrow(/allowHttp \(--allow-http \/ SIBYL_ALLOW_HTTP\): expected true or false/);
  });

  it('documents every setting in --help', () => {
    const text = gatewayHelp();
    expect(text).toMatch(/^Usage: sibyl gateway \[flags\]/);
    for (const s of Object.values(GATEWAY_SETTINGS)) {
      expect(text).toContain(`--${s.flag} <value>`);
      expect(text).toContain(s.env);
    }
  });
});
