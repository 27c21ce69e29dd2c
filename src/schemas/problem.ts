import { z } from 'zod';

export const ProblemSchema = z
  .object({
    type: z.string().describe('URI reference of the problem type; GET it for a description.'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().describe('What went wrong with this request, for a person.'),
    requestId: z.string().describe("Identifies the request in the service's logs."),
    errors: z
      .array(
        z.object({
          path: z.string().describe('The field, as a path into the body: `input.shape[1]`.'),
          message: z.string(),
        }),
      )
      .optional()
      .describe('The offending fields, for validation problems.'),
  })
  .meta({ id: 'Problem', description: 'An RFC 9457 problem document (application/problem+json).' });
