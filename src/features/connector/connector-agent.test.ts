import { describe, expect, it } from 'vitest';
import { endpointOf, startConnectorAgent } from './connector-agent.js';

describe('the connector agent', () => {
  it('dials the vault\'s connect path over wss for https URLs, keeping a path prefix the vault is served under', () => {
    expect(endpointOf('https://vault.example.com')).toBe('wss://vault.example.com/api/v1/connectors/connect');
    expect(endpointOf('https://vault.example.com:8443/custos/')).toBe('wss://vault.example.com:8443/custos/api/v1/connectors/connect');
    expect(endpointOf('wss://vault.example.com')).toBe('wss://vault.example.com/api/v1/connectors/connect');
  });

  it('refuses plain http to anything but a vault on this machine: the token would cross the network in clear', () => {
    expect(endpointOf('http://127.0.0.1:8220')).toBe('ws://127.0.0.1:8220/api/v1/connectors/connect');
    expect(endpointOf('http://localhost:8220')).toBe('ws://localhost:8220/api/v1/connectors/connect');
    expect(() => endpointOf('http://vault.example.com')).toThrow(expect.objectContaining({ code: 'CONNECTOR_TLS_REQUIRED' }));
    expect(() => endpointOf('ftp://vault.example.com')).toThrow(expect.objectContaining({ code: 'CONNECTOR_URL_INVALID' }));
    expect(() => endpointOf('not a url')).toThrow(expect.objectContaining({ code: 'CONNECTOR_URL_INVALID' }));
  });

  it('refuses an --allow entry that is not a range before dialling anything', () => {
    expect(() => startConnectorAgent({ url: 'https://vault.example.com', token: 'cnt_x', allow: ['10.0.0.0/8', 'intranet'] })).toThrow(expect.objectContaining({ code: 'CONNECTOR_ALLOW_INVALID' }));
  });
});
