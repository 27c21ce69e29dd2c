import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PROBLEM_TYPES, ProblemError, type ProblemSlug, problemTypeUri } from '../problems.js';

const slugs = Object.keys(PROBLEM_TYPES) as [ProblemSlug, ...ProblemSlug[]];

/** Each problem document's `type` is a URI of this service: GET it to learn what the problem means. */
export async function problemRoutes(app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/problems/:slug',
    {
      schema: {
        tags: ['service'],
        summary: 'Describe a problem type',
        description: 'What a problem document of this `type` means and which status it comes with.',
        params: z.object({ slug: z.string() }),
        response: {
          200: z.object({ type: z.string(), title: z.string(), status: z.number().int(), description: z.string() }),
        },
      },
    },
    async (request) => {
      const slug = request.params.slug as ProblemSlug;
      if (!slugs.includes(slug))
        throw new ProblemError('not-found', `no problem type ${request.params.slug.slice(0, 100)}`);
      const p = PROBLEM_TYPES[slug];
      return { type: problemTypeUri(slug), title: p.title, status: p.status, description: p.description };
    },
  );
}
