// prompts.system: another system prompt. The general framing changes (terse, verbose, a persona,
// another language); what the task's own system prompt says about the world (who the user is,
// today's date, the rules) is kept word for word after it, so the task stays the same task.
import { z } from 'zod';
import { definePerturbation } from '../types.ts';

export const SYSTEM_VARIANTS = ['terse', 'verbose', 'persona', 'language'] as const;
export const LANGUAGES = ['fr', 'de', 'es'] as const;
type Variant = (typeof SYSTEM_VARIANTS)[number];
type Language = (typeof LANGUAGES)[number];

interface Framing {
  /** For tasks with tools. */
  tools: string;
  /** For text-only tasks. */
  text: string;
}

const FRAMINGS: Record<Exclude<Variant, 'language'>, Framing> = {
  terse: {
    tools: 'Do what the user asks with the tools. Change nothing else. End with a short answer, or with the tool that submits the work if there is one.',
    text: 'Answer the user. Be brief.',
  },
  verbose: {
    tools: [
      'You are an assistant working inside a software environment on behalf of the user. You can act only through the tools offered with this conversation; every call returns either a result or an error explaining what went wrong.',
      'How to work:',
      '1. Read the request closely and work out exactly what has to change and what you must report back.',
      '2. Look things up before you act: find the records, files or people the request is about rather than guessing identifiers.',
      '3. Make only the changes the request asks for, and nothing that was not asked for.',
      '4. When a call fails, read the error, correct the call and try again; a temporary failure usually succeeds on a second attempt.',
      '5. When everything is done, reply with a short final answer stating the outcome, or call the tool that submits the work if one is offered.',
    ].join('\n'),
    text: [
      'You are an assistant answering the user in writing.',
      'Read each question closely, think it through, and give an answer that is correct and complete.',
      'When a question has a single answer, state it plainly at the end of your reply.',
    ].join('\n'),
  },
  persona: {
    tools: 'You are Quill, a meticulous operations clerk. You speak plainly, check before you act, and never touch anything you were not asked to touch. When the work is done you report it in a line or two, or use the tool that submits the work if there is one.',
    text: 'You are Quill, a meticulous clerk with a dry wit. You answer plainly and check your reasoning before you commit to an answer.',
  },
};

// Written for this project; the user's messages stay in English, so answers are asked for in English.
const LANGUAGE_FRAMINGS: Record<Language, Framing> = {
  fr: {
    tools:
      "Tu es un assistant qui travaille dans un environnement logiciel à l'aide des outils fournis. Fais ce que l'utilisateur demande, vérifie les faits avant d'agir et ne modifie rien d'autre. Quand le travail est terminé, donne une réponse finale courte, ou appelle l'outil qui soumet le travail s'il existe. L'utilisateur écrit en anglais : réponds en anglais.",
    text: "Réponds directement à l'utilisateur, par écrit. Quand une question a une seule réponse, donne-la clairement à la fin. L'utilisateur écrit en anglais : réponds en anglais.",
  },
  de: {
    tools:
      'Du bist ein Assistent, der mit den bereitgestellten Werkzeugen in einer Softwareumgebung arbeitet. Erledige, worum der Nutzer bittet, prüfe Fakten, bevor du handelst, und ändere nichts anderes. Wenn die Arbeit erledigt ist, gib eine kurze abschließende Antwort oder rufe das Werkzeug auf, das die Arbeit einreicht, falls es eines gibt. Der Nutzer schreibt auf Englisch: Antworte auf Englisch.',
    text: 'Antworte dem Nutzer direkt und schriftlich. Wenn eine Frage genau eine Antwort hat, nenne sie am Ende deutlich. Der Nutzer schreibt auf Englisch: Antworte auf Englisch.',
  },
  es: {
    tools:
      'Eres un asistente que trabaja en un entorno de software con las herramientas disponibles. Haz lo que pide el usuario, comprueba los datos antes de actuar y no cambies nada más. Cuando termines, da una respuesta final breve, o llama a la herramienta que entrega el trabajo si existe. El usuario escribe en inglés: responde en inglés.',
    text: 'Responde al usuario directamente y por escrito. Cuando una pregunta tenga una sola respuesta, dila claramente al final. El usuario escribe en inglés: responde en inglés.',
  },
};

export const system = definePerturbation({
  id: 'prompts.system',
  family: 'prompts',
  summary: 'replaces the general framing of the system prompt (terse, verbose, a persona, or another language); the task’s own context is kept after it',
  randomised: (params) => params.variant === 'language' && params.language === undefined,
  params: z
    .object({
      /** `language` when only a language is given, else `terse`. */
      variant: z.enum(SYSTEM_VARIANTS).optional(),
      /** For variant `language`; drawn from the seed when left out. */
      language: z.enum(LANGUAGES).optional(),
    })
    .strict()
    .refine((p) => p.language === undefined || p.variant === undefined || p.variant === 'language', { message: 'a language goes with variant=language', path: ['language'] })
    .transform((p) => ({ variant: p.variant ?? (p.language ? 'language' : 'terse'), ...(p.language ? { language: p.language } : {}) }) as { variant: Variant; language?: Language }),
  supports: () => null,
  apply(target, { rng, params }) {
    const framing = params.variant === 'language' ? LANGUAGE_FRAMINGS[params.language ?? rng.pick(LANGUAGES)] : FRAMINGS[params.variant];
    const frame = target.tools.length > 0 ? framing.tools : framing.text;
    const own = target.task.systemPrompt;
    return { task: { ...target.task, systemPrompt: own ? `${frame}\n\n${own}` : frame } };
  },
});
