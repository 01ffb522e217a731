/**
 * Photos waiting with a queued record, kept on the device as IndexedDB blobs (localStorage
 * holds only text and a few megabytes): put when the user records, read when the queue sends
 * the record, deleted once the server has them.
 */
const DB_NAME = "oioc-field-media";
const STORE = "blobs";

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore(STORE);
    };
    request.onsuccess = () => {
      resolve(request.result);
    };
    request.onerror = () => {
      reject(request.error ?? new Error("IndexedDB did not open"));
    };
  });
}

async function run<T>(mode: IDBTransactionMode, act: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const request = act(db.transaction(STORE, mode).objectStore(STORE));
      request.onsuccess = () => {
        resolve(request.result);
      };
      request.onerror = () => {
        reject(request.error ?? new Error("IndexedDB request failed"));
      };
    });
  } finally {
    db.close();
  }
}

export function putBlob(key: string, blob: Blob): Promise<IDBValidKey> {
  return run("readwrite", (store) => store.put(blob, key));
}

export async function getBlob(key: string): Promise<Blob | null> {
  const value: unknown = await run("readonly", (store) => store.get(key));
  return value instanceof Blob ? value : null;
}

export function deleteBlob(key: string): Promise<undefined> {
  return run("readwrite", (store) => store.delete(key));
}
