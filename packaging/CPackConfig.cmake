# Packaging: install rules for everything that is not a binary (systemd unit, system user, desktop
# entry, icons, AppStream metadata, docs, example configuration), the Debian package (CPack DEB),
# and on Apple the tray's .app bundle. Included last by the top-level CMakeLists.txt, so every
# target already exists. packaging/build-deb builds and checks the package; packaging/README.md
# says how to build each package.

set(GR_PACKAGING_DIR ${CMAKE_CURRENT_LIST_DIR})
set(GR_HAVE_TRAY OFF)
if(TARGET ghost-runner-tray)
    set(GR_HAVE_TRAY ON)
endif()

# ---------------------------------------------------------------- macOS: the tray as an .app
if(APPLE)
    include(${GR_PACKAGING_DIR}/macos/TrayBundle.cmake)
    if(GR_HAVE_TRAY)
        gr_make_tray_bundle(ghost-runner-tray) # no-op if tray/CMakeLists.txt already called it
    endif()
    return() # no .deb on macOS: see packaging/README.md for the bundle, macdeployqt, LaunchAgent
endif()
if(NOT UNIX)
    return()
endif()

# ---------------------------------------------------------------- Linux install rules
# Paths relative to CMAKE_INSTALL_PREFIX (packaging/build-deb configures with /usr). Not
# CMAKE_INSTALL_LIBDIR: on Debian that is lib/<multiarch>, and systemd looks in lib/.
set(GR_BINDIR ${CMAKE_INSTALL_PREFIX}/bin)
set(GR_DOCDIR ${CMAKE_INSTALL_PREFIX}/share/doc/ghost-runner)
set(GR_SYSUSERSDIR ${CMAKE_INSTALL_PREFIX}/lib/sysusers.d)
string(TIMESTAMP GR_RELEASE_DATE "%Y-%m-%d" UTC) # honours SOURCE_DATE_EPOCH

set(_gen ${CMAKE_BINARY_DIR}/packaging)
configure_file(${GR_PACKAGING_DIR}/linux/ghost-runner@.service.in
               ${_gen}/ghost-runner@.service @ONLY)
configure_file(${GR_PACKAGING_DIR}/linux/io.github.ghostrunner.GhostRunner.metainfo.xml.in
               ${_gen}/io.github.ghostrunner.GhostRunner.metainfo.xml @ONLY)
configure_file(${GR_PACKAGING_DIR}/linux/debian/postinst.in ${_gen}/debian/postinst @ONLY)
file(COPY ${GR_PACKAGING_DIR}/linux/debian/prerm ${GR_PACKAGING_DIR}/linux/debian/postrm
     DESTINATION ${_gen}/debian)

install(FILES ${_gen}/ghost-runner@.service DESTINATION lib/systemd/system)
install(FILES ${GR_PACKAGING_DIR}/linux/ghost-runner.sysusers DESTINATION lib/sysusers.d
        RENAME ghost-runner.conf)
install(FILES ${_gen}/io.github.ghostrunner.GhostRunner.metainfo.xml DESTINATION share/metainfo)
install(FILES ${PROJECT_SOURCE_DIR}/resources/ghost-runner.ini.example
        DESTINATION share/doc/ghost-runner/examples)
install(FILES ${GR_PACKAGING_DIR}/linux/debian/copyright DESTINATION share/doc/ghost-runner)
foreach(_doc README.md docs/operations.md docs/configuration.md)
    if(EXISTS ${PROJECT_SOURCE_DIR}/${_doc})
        install(FILES ${PROJECT_SOURCE_DIR}/${_doc} DESTINATION share/doc/ghost-runner)
    endif()
endforeach()

# The application icon, by its theme name "ghost-runner" (the tray's autostart entry uses it too).
foreach(_size 16 22 24 32 48 64 128 256 512)
    install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/ghost-runner-${_size}.png
            DESTINATION share/icons/hicolor/${_size}x${_size}/apps RENAME ghost-runner.png)
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/ghost-runner.svg
        DESTINATION share/icons/hicolor/scalable/apps)

if(GR_HAVE_TRAY)
    configure_file(${GR_PACKAGING_DIR}/linux/io.github.ghostrunner.Tray.metainfo.xml.in
                   ${_gen}/io.github.ghostrunner.Tray.metainfo.xml @ONLY)
    install(FILES ${GR_PACKAGING_DIR}/linux/io.github.ghostrunner.Tray.desktop
            DESTINATION share/applications)
    install(FILES ${_gen}/io.github.ghostrunner.Tray.metainfo.xml DESTINATION share/metainfo)
endif()

# ---------------------------------------------------------------- the Debian package
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ghost-runner)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "Ghost Runner")
set(CPACK_PACKAGE_CONTACT "Ghost Runner maintainers <maintainers@users.noreply.b-seed-44e8ae4e.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
# Wrapped by hand: CPack keeps the line breaks (and turns the empty line into " .").
set(CPACK_PACKAGE_DESCRIPTION
    "Ghost Runner receives code patches over a webhook (typically sent by an AI
assistant), applies them to a workspace, directly or through a relay, and
confirms every delivery in a log that it writes itself. Nothing it acknowledges
is lost or applied twice, and every failure shows in the HTTP answer, in
/health and in the log.

This package holds the ghost-runner daemon and command-line tool with a
systemd instance unit (ghost-runner@NAME reads /etc/ghost-runner/NAME.ini)")
if(GR_HAVE_TRAY)
    string(APPEND CPACK_PACKAGE_DESCRIPTION ", and the ghost-runner-tray desktop app.")
else()
    string(APPEND CPACK_PACKAGE_DESCRIPTION ".")
endif()
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX}) # the unit's ExecStart agrees
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # ghost-runner_<version>-<release>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "${PROJECT_HOMEPAGE_URL}")
# Shared libraries come from dpkg-shlibdeps; Qt plugins are loaded at run time, so it cannot see
# them: the SQLite driver (the journal) always; for the tray the SVG image/icon plugins and
# qt6-qpa-plugins, which libqt6gui6 only recommends (xcb itself is in libqt6gui6). The daemon uses QCoreApplication and loads no platform plugin: without the tray
# the package pulls in no GUI libraries.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(_depends "libqt6sql6-sqlite")
if(GR_HAVE_TRAY)
    # Debian 13 moved the SVG plugins to qt6-svg-plugins; on 12 they are in libqt6svg6.
    string(APPEND _depends ", qt6-qpa-plugins, qt6-svg-plugins | libqt6svg6 (<< 6.5)")
    set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "qt6-wayland") # native Wayland; else XWayland via xcb
endif()
set(CPACK_DEBIAN_PACKAGE_DEPENDS "${_depends}")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "systemd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${_gen}/debian/postinst ${_gen}/debian/prerm ${_gen}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
