// What the build and the server provide to the snippet's sources, for `tsc --noEmit`.
declare module '*.css' {
  const css: string;
  export default css;
}
declare const __ACCORD_CONFIG__: import('./constants.js').Site;
declare const __ACCORD_UI__: string;
interface Window {
  Accord: any;
  dataLayer?: any[];
  gtag?: (...args: any[]) => void;
  __accordUi?: any;
}
interface Navigator {
  globalPrivacyControl?: boolean;
}
