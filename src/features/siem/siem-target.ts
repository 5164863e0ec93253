import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { Keyring } from '../../platform/crypto/keyring.js';
import type { DbOrTx } from '../../platform/db/database.js';
import type { SiemDestinationTable } from '../../platform/db/schema.siem.js';
import { invalid } from '../../platform/errors.js';
import type { SiemTarget } from './siem-transport.js';

/** Where a destination's secrets are sealed: bound to the tenant, the destination and the field. */
export const siemSealContext = (tenantId: string, id: string, field: 'tls_client_key' | 'secret') => ({ tenantId, entity: 'siem_destination', id, field });

/** Refuses PEM text that does not parse, and a client key that does not belong to its certificate. */
export function checkPem(tls: { caPem?: string; clientCertPem?: string; clientKeyPem?: string } | undefined | null): void {
  if (!tls) return;
  const certificates = (field: string, text: string) => {
    const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0) throw invalid('SIEM_BAD_PEM', `${field} holds no PEM certificate.`);
    try {
      return blocks.map((block) => new X509Certificate(block));
    } catch {
      throw invalid('SIEM_BAD_PEM', `${field} is not a valid PEM certificate.`);
    }
  };
  if (tls.caPem) certificates('tls.caPem', tls.caPem);
  if (tls.clientCertPem && tls.clientKeyPem) {
    const [certificate] = certificates('tls.clientCertPem', tls.clientCertPem);
    let key;
    try {
      key = createPrivateKey(tls.clientKeyPem);
    } catch {
      throw invalid('SIEM_BAD_PEM', 'tls.clientKeyPem is not a valid unencrypted PEM private key.');
    }
    if (!certificate!.checkPrivateKey(key)) throw invalid('SIEM_BAD_PEM', 'tls.clientKeyPem is not the key of tls.clientCertPem.');
  }
}

/** The destination as the transports need it, with its sealed secrets opened. */
export async function resolveTarget(db: DbOrTx, keyring: Keyring, row: SiemDestinationTable): Promise<SiemTarget> {
  const open = async (field: 'tls_client_key' | 'secret', sealed: string | null) => (sealed ? (await keyring.open(db, siemSealContext(row.tenant_id, row.id, field), sealed)).toString('utf8') : undefined);
  const key = await open('tls_client_key', row.tls_client_key_sealed);
  const hasTls = row.tls_ca_pem || row.tls_client_cert_pem || row.tls_server_name;
  return {
    transport: row.transport,
    host: row.host,
    port: row.port === null ? null : Number(row.port),
    url: row.url,
    framing: row.framing,
    tls: hasTls ? { ca: row.tls_ca_pem ?? undefined, cert: row.tls_client_cert_pem ?? undefined, key, serverName: row.tls_server_name ?? undefined } : null,
    secret: (await open('secret', row.secret_sealed)) ?? null,
  };
}
