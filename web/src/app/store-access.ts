// Whether this server's store takes labels. A store served read-only (a read-only file or folder,
// `serve --read-only`, an older store left unmigrated) is for reading: pages disable what would
// write, keyboard shortcuts included, so a reviewer is not invited to label work that cannot be saved.
import { createContext, useContext } from 'react';
import type { StoreAccess } from '../api/schemas.ts';

/** Until the server has said, the store counts as writable: a write it refuses still shows its error. */
export const StoreAccessContext = createContext<StoreAccess>({ readOnly: false, reason: null });
export const useStoreAccess = (): StoreAccess => useContext(StoreAccessContext);

/** Said beside every disabled review action. */
export const READ_ONLY_HINT = 'The store is read-only: nothing can be saved here.';
