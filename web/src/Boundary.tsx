/** A page that fails to render says so, and offers to go on, instead of leaving a blank screen. */
import { Component, type ReactNode } from 'react';

export class Boundary extends Component<{ children: ReactNode }, { failed: boolean }> {
  override state = { failed: false };

  static getDerivedStateFromError() {
    return { failed: true };
  }

  override render() {
    if (!this.state.failed) return this.props.children;
    return (
      <div className="error" role="alert">
        <p>This page could not be shown. Please try another page, or reload and sign in again.</p>
        <button type="button" onClick={() => this.setState({ failed: false })}>
          Try again
        </button>
      </div>
    );
  }
}
