import { createTargetGuard } from '../../src/platform/net/target-guard.js';
import { createDeliverRound } from '../../src/features/siem/siem-transport.js';

/** Delivery as a server with CUSTOS_TARGET_ALLOW_CIDRS=127.0.0.0/8 does it: the tests' receivers listen on loopback. */
export const loopbackDeliver = createDeliverRound(createTargetGuard({ allowCidrs: ['127.0.0.0/8', '::1/128'] }));
