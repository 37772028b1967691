#!/usr/bin/env bash
# Builds Arbor's container image without a Docker daemon or a registry: Jib (profile `image` of the cluster/app module)
# writes a docker-save tar onto `scratch`, with everything the Dockerfile's eclipse-temurin base would bring added as
# Jib extra directories, prepared here in the ignored folder .image/rootfs:
#   /opt/java/openjdk            a jlinked Java 17 (the host's JDK; the modules Arbor's jars use, per jdeps)
#   /lib64, /usr/lib/x86_64-linux-gnu
#                                glibc's loader and every shared library the JRE, /bin/sh and the jars' native code
#                                (DJL tokenizers, JNA, jffi, lmdbjava, JCuda) link against, found with ldd
#   /bin/sh                      dash: the launcher k8s/image/arbor is a shell script (it expands ARBOR_JAVA_OPTS)
#   /etc/passwd, group, nsswitch.conf (user arbor, uid 10001), /tmp (world-writable: DJL_CACHE_DIR=/tmp/djl),
#   /models (the mount point of the manifests' model volume), /usr/lib/locale/C.utf8 (LANG=C.UTF-8)
# Jib adds the jars under /opt/arbor, the launcher as /opt/arbor/bin/arbor and models/ as /opt/arbor/models.
#
#   tools/build_image.sh                 → cluster/app/target/arbor-image.tar, image arbor:0.1.0 (the lab overlay's)
#   tools/build_image.sh -Darbor.image=registry.example.com/arbor/arbor:0.1.0     (extra arguments go to Maven)
# Then: docker load -i cluster/app/target/arbor-image.tar (or ctr images import, kind load image-archive);
# tools/check_image.sh runs the tar's entrypoint in a chroot without Docker.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
stage="$root/.image/rootfs"
libdir=usr/lib/x86_64-linux-gnu
cd "$root"
[ "$(uname -m)" = x86_64 ] || { echo "build_image.sh: linux/amd64 only (it copies this machine's glibc)" >&2; exit 1; }

# Modules: what `jdeps --print-module-deps` reports for the runtime classpath (java.desktop for java.beans, which
# Jinjava's chat templates use; java.sql for Jackson; jdk.jfr for Pekko; java.net.http for the bench client),
# plus jdk.crypto.ec (TLS with EC keys), jdk.naming.dns, jdk.zipfs and jdk.jcmd (jcmd/jstack in a running pod).
modules=java.base,java.compiler,java.desktop,java.instrument,java.logging,java.management,java.naming,java.net.http
modules=$modules,java.security.jgss,java.sql,java.xml,jdk.crypto.ec,jdk.httpserver,jdk.incubator.vector,jdk.jfr
modules=$modules,jdk.management,jdk.naming.dns,jdk.unsupported,jdk.zipfs,jdk.jcmd
# java.desktop's native code for windows, fonts, sound and images: never loaded by a headless server, and it would
# drag X11, freetype, ALSA and libjpeg into the image
gui_libs="libawt_xawt.so libjawt.so libsplashscreen.so libfontmanager.so libjsound.so libjavajpeg.so liblcms.so"
# left unresolved on purpose: libjvm.so is found by the launcher (not through the loader's path); libcuda.so.1 and
# libnvrtc.so.12 come from the NVIDIA container runtime on GPU nodes
expected_missing="libjvm.so libcuda.so.1 libnvrtc.so.12"

echo "build_image: building the jars"
cp_file="$root/.image/classpath.txt"
mkdir -p "$root/.image"
mvn -B -o -q -pl cluster/app -am package dependency:build-classpath -DskipTests \
  -Dmdep.outputFile="$cp_file" -DincludeScope=runtime

echo "build_image: jlink → $stage/opt/java/openjdk"
rm -rf "$stage"
mkdir -p "$stage/opt/java" "$stage/$libdir" "$stage/lib64" "$stage/bin" "$stage/etc" "$stage/tmp" "$stage/models"
# no --generate-cds-archive: JDK 17 writes a different archive every time, which would change the JRE's layer on
# every build (without it the JRE is byte-for-byte the same, and so is its layer's digest)
jlink --add-modules "$modules" --compress=2 --strip-debug --no-header-files --no-man-pages \
  --output "$stage/opt/java/openjdk" 2>&1 | grep -v 'incubator modules' || true
java_home="$stage/opt/java/openjdk"
[ -x "$java_home/bin/java" ] || { echo "jlink failed" >&2; exit 1; }
for f in $gui_libs; do rm -f "$java_home/lib/$f"; done
# legal/ holds symlinks to java.base's notices: make them files (an image layer should not depend on link handling)
cp -rL "$java_home/legal" "$java_home/legal.tmp" && rm -rf "$java_home/legal" && mv "$java_home/legal.tmp" "$java_home/legal"

# the jars' native libraries for linux x86-64 (loaded at run time from a temporary copy): only to find what they link
natives="$root/.image/natives"
rm -rf "$natives" && mkdir -p "$natives"
tr ':' '\n' <"$cp_file" | while read -r jar; do
  for entry in $(unzip -Z1 "$jar" 2>/dev/null | grep -E '\.so$' | grep -iE 'linux.*(x86[-_]64|amd64)|(x86[-_]64|amd64).*linux' || true); do
    out="$natives/$(basename "$jar" .jar)"
    mkdir -p "$out" && unzip -q -o -j "$jar" "$entry" -d "$out"
  done
done

cp /bin/dash "$stage/bin/sh"

# every ELF file's dependencies (ldd gives the transitive closure), copied under their sonames
elfs=$( (find "$java_home" "$natives" -type f \( -name '*.so' -o -path '*/bin/*' -o -name jspawnhelper -o -name jexec \);
         echo "$stage/bin/sh") | sort)
missing=""
for f in $elfs; do
  ldd "$f" 2>/dev/null | while read -r name arrow path _; do
    case "$name" in
      linux-vdso.so.*) ;;
      /lib64/ld-linux-x86-64.so.2) echo "COPY $name $name" ;;
      *) if [ "$arrow" = "=>" ] && [ "$path" = "not" ]; then echo "MISSING $name $f"
         elif [ "$arrow" = "=>" ] && [ "${path#"$stage"}" = "$path" ] && [ "${path#"$natives"}" = "$path" ]; then
           echo "COPY $name $path"; fi ;;
    esac
  done
done | sort -u >"$root/.image/ldd.txt"
grep '^MISSING' "$root/.image/ldd.txt" | while read -r _ name f; do
  case " $expected_missing " in *" $name "*) ;; *) echo "build_image: $f needs $name, not on this machine" >&2; echo x;; esac
done | grep -q x && exit 1
grep '^COPY' "$root/.image/ldd.txt" | while read -r _ name path; do
  if [ "$name" = /lib64/ld-linux-x86-64.so.2 ]; then cp -L "$path" "$stage/lib64/"; else cp -L "$path" "$stage/$libdir/$name"; fi
done

mkdir -p "$stage/usr/lib/locale" && cp -r /usr/lib/locale/C.utf8 "$stage/usr/lib/locale/"
# the copyright notices of the Debian packages the binaries come from
for f in /bin/dash /lib64/ld-linux-x86-64.so.2 /usr/lib/locale/C.utf8/LC_CTYPE \
         $(grep '^COPY' "$root/.image/ldd.txt" | awk '{print $3}'); do
  dpkg -S "$(realpath "$f")" 2>/dev/null || dpkg -S "$f" 2>/dev/null || true
done | cut -d: -f1 | sort -u | while read -r pkg; do
  [ -f "/usr/share/doc/$pkg/copyright" ] && mkdir -p "$stage/usr/share/doc/$pkg" && cp "/usr/share/doc/$pkg/copyright" "$stage/usr/share/doc/$pkg/"
done

cat >"$stage/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
arbor:x:10001:10001:Arbor:/opt/arbor:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
EOF
cat >"$stage/etc/group" <<'EOF'
root:x:0:
arbor:x:10001:
nogroup:x:65534:
EOF
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$stage/etc/nsswitch.conf"

echo "build_image: $(du -sh "$stage" | cut -f1) of runtime files; $(grep -c '^COPY' "$root/.image/ldd.txt") shared libraries"
echo "build_image: Jib → cluster/app/target/arbor-image.tar"
mvn -B -o -q -Pimage -pl cluster/app -am package -DskipTests -Djib.disableUpdateChecks=true "$@"
tar="$root/cluster/app/target/arbor-image.tar"
echo "build_image: $tar ($(du -h "$tar" | cut -f1), $(cat "$root/cluster/app/target/jib-image.digest" 2>/dev/null))"
