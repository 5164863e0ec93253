import { MAX_RESULTS, SCIM } from './scim-protocol.js';

type Attribute = Record<string, unknown>;

/** An RFC 7643 section 7 attribute definition with the usual defaults. */
function attribute(name: string, description: string, extra: Attribute = {}): Attribute {
  return { name, type: 'string', multiValued: false, description, required: false, caseExact: false, mutability: 'readWrite', returned: 'default', uniqueness: 'none', ...extra };
}

const reference = (what: string, mutability: string) => [
  attribute('value', `The id of the ${what}.`, { mutability }),
  attribute('display', `The ${what}'s name, for display.`, { mutability: 'readOnly' }),
];

const userAttributes = [
  attribute('userName', 'The login name (stored lower-case; letters, digits and . _ @ + -). Unique in the tenant.', { required: true, uniqueness: 'server' }),
  attribute('name', 'The name parts; formatted becomes the display name when displayName is not sent.', {
    type: 'complex',
    subAttributes: [attribute('formatted', 'The full name.'), attribute('givenName', 'The given name.'), attribute('familyName', 'The family name.')],
  }),
  attribute('displayName', 'The name shown in Custos.'),
  attribute('emails', 'E-mail addresses; Custos keeps one, the primary (else the first).', {
    multiValued: true,
    type: 'complex',
    subAttributes: [attribute('value', 'The address.'), attribute('type', 'Always work in answers.'), attribute('primary', 'Always true in answers.', { type: 'boolean' })],
  }),
  attribute('active', 'false deactivates the user (every session ends); true reactivates.', { type: 'boolean' }),
  attribute('externalId', "The identity provider's id of the user.", { caseExact: true }),
  attribute('groups', 'The groups the user belongs to (change them through the Group resource).', { multiValued: true, type: 'complex', mutability: 'readOnly', subAttributes: reference('group', 'readOnly') }),
];

const groupAttributes = [
  attribute('displayName', 'The group name, unique in the tenant.', { required: true, uniqueness: 'server' }),
  attribute('externalId', "The identity provider's id of the group.", { caseExact: true }),
  attribute('members', "The group's members; they receive the roles an administrator gave the group in Custos.", { multiValued: true, type: 'complex', subAttributes: reference('user', 'immutable') }),
];

/** The discovery documents of RFC 7644 section 4, for an installation whose SCIM base is `baseUrl`. */
export function discoveryDocuments(baseUrl: string) {
  const schema = (id: string, name: string, description: string, attributes: Attribute[]) => ({
    schemas: [SCIM.schema], id, name, description, attributes, meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${id}` },
  });
  const resourceType = (name: 'User' | 'Group', schemaId: string, description: string) => ({
    schemas: [SCIM.resourceType], id: name, name, endpoint: `/${name}s`, description, schema: schemaId, schemaExtensions: [], meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/${name}` },
  });
  return {
    serviceProviderConfig: {
      schemas: [SCIM.serviceProviderConfig],
      patch: { supported: true },
      bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
      filter: { supported: true, maxResults: MAX_RESULTS },
      changePassword: { supported: false },
      sort: { supported: false },
      etag: { supported: false },
      authenticationSchemes: [
        { type: 'oauthbearertoken', name: 'OAuth Bearer Token', description: "The tenant's SCIM token (csp_...), created by an administrator with POST /api/v1/settings/scim/token.", specUri: 'https://www.rfc-editor.org/info/rfc6750', primary: true },
      ],
      meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
    },
    schemas: [schema(SCIM.user, 'User', 'A person of the tenant.', userAttributes), schema(SCIM.group, 'Group', 'A group of users that confers roles.', groupAttributes)],
    resourceTypes: [resourceType('User', SCIM.user, 'A person of the tenant.'), resourceType('Group', SCIM.group, 'A group of users that confers roles.')],
  };
}
