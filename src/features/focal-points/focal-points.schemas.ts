import { z } from 'zod';

/** The published topics a focal point can be reached about; notifications pick their recipients by topic. */
export const focalPointTopics = ['security-incident', 'maintenance', 'compliance', 'billing', 'technical'] as const;
export type FocalPointTopic = (typeof focalPointTopics)[number];

/** At most this many focal points per tenant: a contact list, not a directory. */
export const FOCAL_POINT_LIMIT = 100;

export const topicName = z.enum(focalPointTopics, { error: `A topic is one of: ${focalPointTopics.join(', ')}.` });

/** One or more topics; repeats are dropped and the rest kept in the published order, so equal sets compare equal. */
const topicsField = z
  .array(topicName)
  .min(1, `Name at least one topic: ${focalPointTopics.join(', ')}.`)
  .max(20)
  .overwrite((topics) => focalPointTopics.filter((topic) => topics.includes(topic)));

const nameField = z.string().trim().min(1).max(200);
const emailField = z.email('email must be an email address, such as oncall@acme.example').max(320);

/** An international number: + then 7 to 15 digits; spaces and dashes are allowed and dropped. */
const phoneField = z
  .string()
  .max(40)
  .overwrite((phone) => phone.replace(/[\s-]/g, ''))
  .regex(/^\+[0-9]{7,15}$/, 'phone must be an international number: + then 7 to 15 digits, such as +44 20 7946 0958');

/** POST /api/v1/focal-points */
export const createFocalPointBody = z.strictObject({
  name: nameField,
  email: emailField,
  phone: phoneField.optional(),
  topics: topicsField,
});
export type CreateFocalPointInput = z.infer<typeof createFocalPointBody>;

/** PATCH /api/v1/focal-points/{id}: at least one field; phone null removes the number. */
export const patchFocalPointBody = z
  .strictObject({
    name: nameField.optional(),
    email: emailField.optional(),
    phone: phoneField.nullable().optional(),
    topics: topicsField.optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, 'Send at least one of name, email, phone, topics.');
export type PatchFocalPointInput = z.infer<typeof patchFocalPointBody>;

/** GET /api/v1/focal-points query: only the focal points reached about this topic. */
export const listFocalPointsQuery = z.strictObject({ topic: topicName.optional() });
export type ListFocalPointsQuery = z.infer<typeof listFocalPointsQuery>;

export const focalPointParams = z.strictObject({ id: z.string().max(64) });

/** A focal point as the tenant sees it. */
export const focalPointView = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string(),
  phone: z.string().nullable(),
  topics: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
});
