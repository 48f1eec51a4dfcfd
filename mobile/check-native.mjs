// After `npx cap add ios|android` and `npx cap sync`: do the generated native projects say what
// capacitor.config.json and package.json say? Exits 1 with every difference found. Nothing here
// builds them: that needs Xcode, CocoaPods, Gradle and the Android SDK (docs/mobile.md).
import { readFileSync, existsSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";

const problems = [];
const read = (path) => readFileSync(new URL(path, import.meta.url), "utf8");
const json = (path) => JSON.parse(read(path));
const check = (ok, what) => { if (!ok) problems.push(what); };

const config = json("./capacitor.config.json");
const pkg = json("./package.json");
const lock = json("./package-lock.json");

// every npm package pinned to one version, and the lockfile agreeing
for (const [name, version] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
  check(/^\d+\.\d+\.\d+$/.test(version), `package.json: ${name} is not pinned exactly (${version})`);
  check(lock.packages[`node_modules/${name}`]?.version === version, `package-lock.json: ${name} is not ${version}`);
}
const PLATFORM = new Set(["@capacitor/core", "@capacitor/android", "@capacitor/ios"]);
const plugins = Object.keys(pkg.dependencies).filter((name) => !PLATFORM.has(name)).sort();

function sameConfig(path, platform) {
  const copied = json(path);
  for (const key of ["appId", "appName", "webDir", "server", "plugins"]) {
    check(isDeepStrictEqual(copied[key], config[key]), `${platform}: ${key} differs from capacitor.config.json in ${path}`);
  }
  return copied;
}

function sameShell(dir, platform) {
  for (const page of ["index.html", "proof.html"]) {
    const path = `${dir}/${page}`;
    check(existsSync(new URL(path, import.meta.url)) && read(path) === read(`./www/${page}`),
      `${platform}: ${path} is not the shell's www/${page} (run npx cap sync)`);
  }
  check(/<meta name="martingale-server" content="https?:\/\/[^"]+">/.test(read("./www/index.html")),
    "www/index.html names no server: build it with flask mobile-shell");
}

// Android: the Gradle project `cap add android` unpacks, and what `cap sync` copied into it
const android = "./android/app/src/main";
sameConfig(`${android}/assets/capacitor.config.json`, "android");
sameShell(`${android}/assets/public`, "android");
const gradle = read("./android/app/build.gradle");
check(gradle.includes(`applicationId "${config.appId}"`), `android: applicationId is not ${config.appId}`);
check(read(`${android}/res/values/strings.xml`).includes(`<string name="app_name">${config.appName}</string>`),
  `android: app_name is not ${config.appName}`);
const androidPlugins = json(`${android}/assets/capacitor.plugins.json`).map((p) => p.pkg).sort();
check(isDeepStrictEqual(androidPlugins, plugins), `android: plugins ${androidPlugins} are not ${plugins}`);

// iOS: the Xcode project; its pods are only listed (pod install needs CocoaPods on a Mac)
const ios = "./ios/App/App";
const iosConfig = sameConfig(`${ios}/capacitor.config.json`, "ios");
sameShell(`${ios}/public`, "ios");
check(iosConfig.packageClassList?.length === plugins.length,
  `ios: ${iosConfig.packageClassList?.length} plugin classes registered, ${plugins.length} plugins installed`);
check(read(`${ios}/Info.plist`).includes(`<string>${config.appName}</string>`), `ios: display name is not ${config.appName}`);
const bundleIds = [...read("./ios/App/App.xcodeproj/project.pbxproj").matchAll(/PRODUCT_BUNDLE_IDENTIFIER = ([^;]+);/g)].map((m) => m[1]);
check(bundleIds.length > 0 && bundleIds.every((id) => id === config.appId), `ios: bundle ids ${bundleIds} are not ${config.appId}`);
const podfile = read("./ios/App/Podfile");
for (const name of plugins) {
  check(podfile.includes(`'../../node_modules/${name}'`), `ios: the Podfile has no pod for ${name}`);
}

if (problems.length) {
  console.error(`native projects inconsistent with the configuration:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`native projects match capacitor.config.json: ${config.appId} "${config.appName}", ` +
  `${plugins.length} plugins on both platforms (${plugins.join(", ")})`);
