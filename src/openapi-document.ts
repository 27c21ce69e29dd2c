/** The committed form of the OpenAPI document: the generator's key order, 2-space JSON. */
export const renderOpenApi = (doc: unknown): string => `${JSON.stringify(doc, null, 2)}\n`;
