// Keyboard-first review. Shortcuts are ignored while the reader types in a field, and each page
// declares its own keys so the help overlay lists exactly what works where it is.
import { createContext, useContext, useEffect, useRef } from 'react';

export interface Hotkey {
  /** `KeyboardEvent.key` values, e.g. ['j', 'ArrowDown']. */
  keys: readonly string[];
  description: string;
  run: (event: KeyboardEvent) => void;
}

export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  const tag = target.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || target.isContentEditable;
}

/** Registers the page's shortcuts (and publishes them for the help overlay) while it is mounted. */
export function useHotkeys(hotkeys: readonly Hotkey[], enabled = true): void {
  const registry = useContext(HotkeyRegistryContext);
  const ref = useRef(hotkeys);
  ref.current = hotkeys;
  const signature = hotkeys.map((h) => `${h.keys.join(',')}:${h.description}`).join('|');

  useEffect(() => {
    if (!enabled) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
      const hotkey = ref.current.find((h) => h.keys.includes(event.key));
      if (!hotkey) return;
      event.preventDefault();
      hotkey.run(event);
    };
    window.addEventListener('keydown', onKey);
    const unregister = registry.register(ref.current.map(({ keys, description }) => ({ keys, description })));
    return () => {
      window.removeEventListener('keydown', onKey);
      unregister();
    };
  }, [enabled, signature, registry]);
}

export interface HotkeyHelp {
  keys: readonly string[];
  description: string;
}

export interface HotkeyRegistry {
  register: (entries: HotkeyHelp[]) => () => void;
}

export const HotkeyRegistryContext = createContext<HotkeyRegistry>({ register: () => () => {} });
