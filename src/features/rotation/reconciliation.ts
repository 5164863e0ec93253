/** The credential's reconciliation credential id (additionalInfo.reconcileCredentialId), if it names one. */
export function reconciliationOf(cred: { additional_info: string }): string | null {
  const id = (JSON.parse(cred.additional_info) as Record<string, unknown>).reconcileCredentialId;
  return typeof id === 'string' && id !== '' ? id : null;
}
