/** Small shared pieces: page headings that take focus, error and status lines. */
import { useEffect, useRef, type ReactNode } from 'react';
import type { GraphError } from './graph';
import { plainWords } from './words';

/** The page's h1, focused when the page opens so a screen reader announces where the person is. */
export function PageHeading({ children }: { children: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}

/** An error in plain words, announced when it appears; with a retry when one is given. */
export function ErrorNote({ error, onRetry, retryLabel = 'Try again' }: { error: GraphError | undefined; onRetry?: () => void; retryLabel?: string }) {
  if (!error) return null;
  return (
    <div className="error" role="alert">
      <p>{plainWords(error)}</p>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          {retryLabel}
        </button>
      )}
    </div>
  );
}

/** A success or progress line, announced politely. */
export function StatusNote({ children }: { children: ReactNode }) {
  if (!children) return null;
  return (
    <p className="status" role="status">
      {children}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status">
      Loading {what}…
    </p>
  );
}
