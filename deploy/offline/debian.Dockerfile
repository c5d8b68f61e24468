# Debian from a debootstrap tarball (deploy/offline/debian-rootfs.sh), the way Debian's official images are
# made: the base of the air-gapped Python and PostgreSQL images. Build context: the folder of the tarball.
FROM scratch
ARG ROOTFS=debian-bookworm.tar
ADD ${ROOTFS} /
ENV LANG=C.UTF-8
CMD ["bash"]
